import { getMetadataStorage, ValidationTypes, type ValidationArguments } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata.js';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage.js';

/** True only when the full validation would accept the body as it is. */
export type BodyCheck = (body: unknown) => boolean;

interface ValidatorConstraint {
  instance: { validate(value: unknown, args: ValidationArguments): unknown };
  async: boolean;
}

interface CompiledValidator {
  instance: ValidatorConstraint['instance'];
  each: boolean;
  validateIf?: (object: object, value: unknown) => boolean;
  /** One arguments object per validator, refilled per call: no allocation per value checked. */
  args: ValidationArguments;
  /** A cheaper test whose `true` guarantees the validator's (its `false` means: ask the validator). */
  surelyValid?: (value: unknown) => boolean;
}

/**
 * Shortcuts for built-in validators, each the test class-validator 0.15 itself makes (or, for
 * MaxLength, one that implies it), without the call through the decorator's closure and a
 * filled arguments object per value. MaxLength counts a string's length less its surrogate
 * pairs and variation selectors (two regular expressions per call), never more than
 * `.length`: a string no longer than the maximum in code units passes. A shortcut's `false`
 * only means "ask the validator", so the verdict is always class-validator's.
 */
export function shortcutFor(metadata: ValidationMetadata): CompiledValidator['surelyValid'] {
  const limit = metadata.constraints?.[0];
  switch (metadata.name) {
    case 'isString':
      return (value) => typeof value === 'string';
    case 'isBoolean':
      return (value) => typeof value === 'boolean';
    case 'isInt':
      return (value) => Number.isInteger(value);
    case 'isArray':
      return (value) => Array.isArray(value);
    case 'equals':
      return (value) => value === limit;
    case 'min':
      return typeof limit === 'number' ? (value) => typeof value === 'number' && value >= limit : undefined;
    case 'max':
      return typeof limit === 'number' ? (value) => typeof value === 'number' && value <= limit : undefined;
    case 'maxLength':
      return typeof limit === 'number' ? (value) => typeof value === 'string' && value.length <= limit : undefined;
    case 'arrayMaxSize':
      return typeof limit === 'number' ? (value) => Array.isArray(value) && value.length <= limit : undefined;
    default:
      return undefined;
  }
}

interface PropertyRule {
  name: string;
  /** ValidateIf / IsOptional: every one must hold for the rest to run. */
  conditions: ((object: object, value: unknown) => boolean)[];
  validators: CompiledValidator[];
  /** ValidateNested with class-transformer's @Type: the check for the object or each item (null: full pipe). */
  nested?: () => BodyCheck | null;
}

const compiled = new Map<Function, BodyCheck | null>();
/** Keys the full pipe deletes (prototype pollution): their presence means "let the full pipe decide". */
const STRIPPED_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * A fast path for the library's own DTOs, compiled once per class from the same
 * class-validator and class-transformer metadata the full pipe reads (the full pipe runs
 * plainToInstance, then validate with whitelist and forbidNonWhitelisted, which profiling
 * showed to be a fifth of a gossip request's CPU).
 *
 * The check is sound, not complete: `true` means the full pipe would accept the body
 * unchanged; `false` means "not sure", and the caller runs the full pipe, which also writes
 * the messages. It calls the very validator instances class-validator would call, and
 * mirrors its executor's order (conditions, then validators, then nested objects, unknown
 * properties refused). Anything it does not model (groups, async validators, promises,
 * IsDefined, Sets and Maps, prototype keys) compiles to `null` or answers `false`.
 * A differential property test holds it to class-validator's verdicts.
 */
export function compiledCheck(dto: Function): BodyCheck | null {
  if (!compiled.has(dto)) {
    compiled.set(dto, null); // a class that nests itself stays on the full pipe
    compiled.set(dto, compile(dto));
  }
  return compiled.get(dto)!;
}

function compile(dto: Function): BodyCheck | null {
  const storage = getMetadataStorage();
  // the arguments class-validator's executor passes when validate() gets no groups or `always`
  const metadatas = storage.getTargetValidationMetadatas(dto, '', false, false, undefined);
  if (!metadatas.length) return null;
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const m of metadatas) {
    if (m.groups?.length) return null;
    byProperty.set(m.propertyName, [...(byProperty.get(m.propertyName) ?? []), m]);
  }
  const rules: PropertyRule[] = [];
  for (const [name, list] of byProperty) {
    const rule: PropertyRule = { name, conditions: [], validators: [] };
    for (const m of list) {
      if (m.type === ValidationTypes.WHITELIST) continue;
      if (m.type === ValidationTypes.CONDITIONAL_VALIDATION) rule.conditions.push(m.constraints[0] as PropertyRule['conditions'][number]);
      else if (m.type === ValidationTypes.CUSTOM_VALIDATION) {
        for (const constraint of storage.getTargetValidatorConstraints(m.constraintCls) as unknown as ValidatorConstraint[]) {
          if (constraint.async) return null;
          rule.validators.push({
            instance: constraint.instance,
            each: m.each,
            validateIf: m.validateIf,
            args: { targetName: dto.name, property: name, object: {}, value: undefined, constraints: m.constraints },
            surelyValid: shortcutFor(m),
          });
        }
      } else if (m.type === ValidationTypes.NESTED_VALIDATION) {
        const type = defaultMetadataStorage.findTypeMetadata(dto, name);
        if (!type || rule.nested) return null;
        let nested: BodyCheck | null | undefined;
        // resolved on first use: the nested class may not be compiled (or even defined) yet
        rule.nested = () => (nested === undefined ? (nested = compiledCheck(type.typeFunction() as Function)) : nested);
      } else return null;
    }
    rules.push(rule);
  }
  const allowed = new Set(byProperty.keys());

  // plain loops and no allocation per value: this runs on every request to the library's endpoints
  const check = (body: unknown): boolean => {
    if (!isPlainObject(body)) return false;
    const object = body as Record<string, unknown>;
    for (const key in object) if (!allowed.has(key)) return false;
    for (let r = 0; r < rules.length; r++) {
      const rule = rules[r];
      const value = object[rule.name];
      let applies = true;
      for (let c = 0; c < rule.conditions.length && applies; c++) applies = rule.conditions[c](object, value);
      if (!applies) continue;
      for (let v = 0; v < rule.validators.length; v++) {
        const validator = rule.validators[v];
        if (validator.validateIf && !validator.validateIf(object, value)) continue;
        const args = validator.args;
        args.object = object;
        if (validator.each && Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) {
            if (validator.surelyValid?.(value[i])) continue;
            args.value = value[i];
            if (validator.instance.validate(value[i], args) !== true) return false;
          }
        } else if (!validator.surelyValid?.(value)) {
          args.value = value;
          if (validator.instance.validate(value, args) !== true) return false;
        }
      }
      if (rule.nested) {
        if (value === undefined) continue;
        const nested = rule.nested();
        if (!nested) return false;
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) if (!nested(value[i])) return false;
        } else if (!nested(value)) return false;
      } else if (value !== null && typeof value === 'object' && !freeOfStrippedKeys(value)) return false;
    }
    return true;
  };
  return check;
}

function isPlainObject(value: unknown): value is object {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A free JSON value (e.g. a state value) the full pipe would return unchanged: no keys it strips. */
function freeOfStrippedKeys(value: unknown): boolean {
  const stack = [value];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (!Array.isArray(v) && !isPlainObject(v)) return false;
    for (const key of Object.keys(v)) {
      if (STRIPPED_KEYS.has(key)) return false;
      stack.push((v as Record<string, unknown>)[key]);
    }
  }
  return true;
}
