import type { AdminPageModule } from './admin-console.js';
export const packagePages: AdminPageModule = () => undefined;
