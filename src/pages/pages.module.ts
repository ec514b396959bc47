import { Module, type DynamicModule } from '@nestjs/common';
import { PagesController } from './pages.controller.js';
import { WebAssets } from './web-assets.js';

/**
 * The login page, the phone's confirm page and the web client (SDK), served
 * by the server itself. Takes the application's OAuth module (for the
 * provider buttons) rather than building a second one.
 */
@Module({})
export class PagesModule {
  static forRoot(oauth: DynamicModule): DynamicModule {
    return { module: PagesModule, imports: [oauth], controllers: [PagesController], providers: [WebAssets] };
  }
}
