import { Type } from 'class-transformer';
import { ArrayMaxSize, Equals, IsArray, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateBy, ValidateNested } from 'class-validator';
import type { SyncMessage } from '../core/types.js';
import { DIGEST_BUCKETS, isDigestEntry, LEAVES_PER_BUCKET, type DigestEntry } from '../core/view-digest.js';
import { MAX_SERVERS_PER_LIST } from '../clustershazbot.constants.js';
import { ServerListDto } from './server-list.dto.js';
import { OptionalStateDeltas, StateDeltaDto } from './state-delta.dto.js';


/** Each element is `[baseUrl, lastUpdate, rank 0|1|2, stateVersion]`. */
function AreDigestEntries(): PropertyDecorator {
  return ValidateBy({
    name: 'areDigestEntries',
    validator: {
      validate: (value: unknown) => Array.isArray(value) && value.every(isDigestEntry),
      defaultMessage: (args) => `each ${args?.property ?? 'digest'} element must be [baseUrl, lastUpdate, rank 0|1|2, stateVersion]`,
    },
  });
}

const BASE64_HASHES = /^[A-Za-z0-9+/]{342}==$/;

/** One bucket's 64 leaf hashes. */
export class LeafHashesDto {
  @IsInt()
  @Min(0)
  @Max(DIGEST_BUCKETS - 1)
  bucket: number;

  @IsString()
  @Matches(BASE64_HASHES, { message: `hashes must be ${LEAVES_PER_BUCKET} 32-bit hashes in base64` })
  hashes: string;
}

/** Body and answer of `POST <prefix>/sync` (see SyncMessage). */
export class SyncMessageDto implements SyncMessage {
  @Equals('sync')
  message: 'sync';

  @IsOptional()
  @IsString()
  @Matches(/^[0-9a-f]{16}$/, { message: 'hash must be 16 lowercase hex digits' })
  hash?: string;

  @IsOptional()
  @IsString()
  @Matches(BASE64_HASHES, { message: `buckets must be ${DIGEST_BUCKETS} 32-bit hashes in base64` })
  buckets?: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_SERVERS_PER_LIST)
  @AreDigestEntries()
  digest?: DigestEntry[];

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(DIGEST_BUCKETS)
  @ValidateNested({ each: true })
  @Type(() => LeafHashesDto)
  leaves?: LeafHashesDto[];

  /** Ranges a digest gives whole: 0–63 a bucket, 64 + leaf a leaf. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(DIGEST_BUCKETS * (LEAVES_PER_BUCKET + 1))
  @IsInt({ each: true })
  @Min(0, { each: true })
  @Max(DIGEST_BUCKETS * (LEAVES_PER_BUCKET + 1) - 1, { each: true })
  complete?: number[];

  @IsOptional()
  @ValidateNested()
  @Type(() => ServerListDto)
  members?: ServerListDto;

  @OptionalStateDeltas()
  state?: StateDeltaDto[];

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_SERVERS_PER_LIST)
  @AreDigestEntries()
  want?: DigestEntry[];
}
