import type { AdminPageModule } from './admin-console.js';
export const auditPages: AdminPageModule = () => undefined;
