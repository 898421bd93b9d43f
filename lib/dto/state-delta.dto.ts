import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import { Allow, ArrayMaxSize, IsArray, IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength, ValidateBy, ValidateNested } from 'class-validator';
import { MAX_BASE_URL_LENGTH } from '../core/base-url.js';
import { keyProblem, type JsonValue, type StateDelta, type StateEntry } from '../core/replicated-state.js';
import { MAX_KEYS_PER_DELTA, MAX_STATE_DELTAS } from '../clustershazbot.constants.js';
import { IsBaseUrl } from './is-base-url.decorator.js';

/** Printable characters only, and not `__proto__` (the rule of `keyProblem`, which the engine applies too). */
function IsStateKey(): PropertyDecorator {
  return ValidateBy({
    name: 'isStateKey',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && keyProblem(value, Number.MAX_SAFE_INTEGER) === null,
      defaultMessage: (args) => `${args?.property ?? 'key'} must hold printable characters only (no control, format or line-separator characters) and not be "__proto__"`,
    },
  });
}

/** One key on the wire; the engine checks sizes against the configured limits. */
export class StateEntryDto implements StateEntry {
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  @IsStateKey()
  key: string;

  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  version: number;

  /** Any JSON value (absent on tombstones). */
  @Allow()
  value?: JsonValue;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  ttlMs?: number;

  @IsOptional()
  @IsBoolean()
  deleted?: boolean;

  @IsOptional()
  @IsBoolean()
  expired?: boolean;
}

/** Key/value changes of one server. */
export class StateDeltaDto implements StateDelta {
  @IsString()
  @MaxLength(MAX_BASE_URL_LENGTH)
  @IsBaseUrl()
  server: string;

  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  from: number;

  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  to: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  floor?: number;

  /** Extension: the generation of the process that wrote these keys (its start stamp). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  generation?: number;

  @IsArray()
  @ArrayMaxSize(MAX_KEYS_PER_DELTA)
  @ValidateNested({ each: true })
  @Type(() => StateEntryDto)
  entries: StateEntryDto[];
}

/** The optional `state` field of probes, acks and syncs: key/value deltas. */
export function OptionalStateDeltas(): PropertyDecorator {
  return applyDecorators(IsOptional(), IsArray(), ArrayMaxSize(MAX_STATE_DELTAS), ValidateNested({ each: true }), Type(() => StateDeltaDto));
}
