/** The public face of `pages/`: what other modules may import (anything else is internal). */
export { PagesModule } from './pages.module.js';
