import type { AdminPageModule } from './admin-console.js';
export const platformPages: AdminPageModule = () => undefined;
