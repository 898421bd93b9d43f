import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsOptional, ValidateNested } from 'class-validator';
import { MAX_SERVERS_PER_LIST } from '../clustershazbot.constants.js';
import type { ServerList } from '../core/types.js';
import { GossipServerDto } from './gossip-server.dto.js';

/** A membership view: the answer of gossip and list, and the master-list document. */
export class ServerListDto implements ServerList {
  @IsArray()
  @ArrayMaxSize(MAX_SERVERS_PER_LIST)
  @ValidateNested({ each: true })
  @Type(() => GossipServerDto)
  online: GossipServerDto[];

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_SERVERS_PER_LIST)
  @ValidateNested({ each: true })
  @Type(() => GossipServerDto)
  offline?: GossipServerDto[];

  /** Extension: suspected servers (failure detection). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_SERVERS_PER_LIST)
  @ValidateNested({ each: true })
  @Type(() => GossipServerDto)
  suspect?: GossipServerDto[];
}
