import type { AdminPageModule } from './admin-console.js';
export const keyPages: AdminPageModule = () => undefined;
