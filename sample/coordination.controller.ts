import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import { ClusterService } from 'clustershazbot';

/** `GET /coordination?keys=1000`: this server's ownership view, so that a test can compare servers. */
@Controller()
export class CoordinationController {
  constructor(private readonly cluster: ClusterService) {}

  /** The owners of `key-0` … `key-<keys − 1>` (at most 10,000), the eligible set's fingerprint, and the singletons. */
  @Get('coordination')
  coordination(@Query('keys') keys = '0') {
    const count = Number(keys);
    if (!Number.isInteger(count) || count < 0 || count > 10_000) throw new BadRequestException('keys must be a whole number from 0 to 10000');
    const owners = Array.from({ length: count }, (_, i) => this.cluster.owner(`key-${i}`) ?? null);
    return { ...this.cluster.status().coordination, owners };
  }
}
