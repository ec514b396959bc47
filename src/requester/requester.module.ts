import { Module } from '@nestjs/common';
import { QR_CONFIG, type QrConfig } from '../config/index.js';
import { GeoIpReader } from './geoip.reader.js';
import { RequesterContextBuilder } from './requester-context.builder.js';

/**
 * Who is on the other end of a request: browser, OS and device type from the
 * user agent (ua-parser-js 1.x), location and network from the offline GeoIP
 * databases when configured. Used by the QR login (the requester a phone is
 * shown) and by sign-ins (the new web session a phone is told about).
 */
@Module({
  providers: [
    RequesterContextBuilder,
    {
      provide: GeoIpReader,
      inject: [QR_CONFIG],
      useFactory: (qr: QrConfig) => GeoIpReader.open({ city: qr.geoip.cityDb, asn: qr.geoip.asnDb }),
    },
  ],
  exports: [RequesterContextBuilder],
})
export class RequesterModule {}
