import { Equals } from 'class-validator';
import type { GossipMessage } from '../core/types.js';
import { ServerListDto } from './server-list.dto.js';

/** Body of `POST <prefix>/gossip`. */
export class GossipMessageDto extends ServerListDto implements GossipMessage {
  @Equals('gossip')
  message: 'gossip';
}
