import { IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MAX_BASE_URL_LENGTH } from '../core/base-url.js';
import type { GossipServer } from '../core/types.js';
import { IsBaseUrl } from './is-base-url.decorator.js';

/** One server entry on the wire. */
export class GossipServerDto implements GossipServer {
  @IsString()
  @MaxLength(MAX_BASE_URL_LENGTH)
  @IsBaseUrl()
  baseUrl: string;

  @IsBoolean()
  monitor: boolean;

  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  lastUpdate: number;

  /** Extension: who declared a suspect or offline entry (failure detection). */
  @IsOptional()
  @IsString()
  @MaxLength(MAX_BASE_URL_LENGTH)
  @IsBaseUrl()
  by?: string;

  /** Extension: the generation (start stamp) of the process the entry is about. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  generation?: number;
}
