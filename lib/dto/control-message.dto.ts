import { Equals, IsBoolean } from 'class-validator';
import type { ControlMessage } from '../core/types.js';

/** Body of `POST <prefix>/control`. */
export class ControlMessageDto implements ControlMessage {
  @Equals('control')
  message: 'control';

  @IsBoolean()
  online: boolean;
}
