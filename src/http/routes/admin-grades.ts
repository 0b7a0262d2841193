import type { AdminPageModule } from './admin-console.js';
export const gradePages: AdminPageModule = () => undefined;
