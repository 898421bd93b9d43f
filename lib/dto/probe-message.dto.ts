import { Equals, IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MAX_BASE_URL_LENGTH } from '../core/base-url.js';
import type { ProbeAck, ProbeMessage } from '../core/types.js';
import { IsBaseUrl } from './is-base-url.decorator.js';
import { ServerListDto } from './server-list.dto.js';
import { OptionalStateDeltas, StateDeltaDto } from './state-delta.dto.js';

/** Body of `POST <prefix>/probe`: a liveness probe with piggybacked changes. */
export class ProbeMessageDto extends ServerListDto implements ProbeMessage {
  @Equals('probe')
  message: 'probe';

  /** Set for an indirect probe: the server to probe on the sender's behalf. */
  @IsOptional()
  @IsString()
  @MaxLength(MAX_BASE_URL_LENGTH)
  @IsBaseUrl()
  target?: string;

  /** Extension: a self-check, sent by the process of this generation to its own base URL. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  selfCheck?: number;

  /** Extension: piggybacked key/value changes. */
  @OptionalStateDeltas()
  state?: StateDeltaDto[];
}

/** Answer to a probe. */
export class ProbeAckDto extends ServerListDto implements ProbeAck {
  @Equals('ack')
  message: 'ack';

  @IsBoolean()
  ack: boolean;

  /** Extension, indirect probes only: the target refused the connection (nothing listens on its port). */
  @IsOptional()
  @IsBoolean()
  refused?: boolean;

  /** Extension: piggybacked key/value changes. */
  @OptionalStateDeltas()
  state?: StateDeltaDto[];
}
