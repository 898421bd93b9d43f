import { BadRequestException, Body, Controller, Get, HttpCode, Ip, Post, Query, UseGuards, UseInterceptors, UsePipes, type Type } from '@nestjs/common';
import { ClusterService, type StateSelection } from './cluster.service.js';
import { escapeForLog } from './core/log-text.js';
import type { JsonValue } from './core/replicated-state.js';
import type { ProbeAck, ServerList, SyncMessage } from './core/types.js';
import { ClusterValidationPipe } from './dto/cluster-validation.pipe.js';
import { ControlMessageDto } from './dto/control-message.dto.js';
import { GossipMessageDto } from './dto/gossip-message.dto.js';
import { ProbeMessageDto } from './dto/probe-message.dto.js';
import { SyncMessageDto } from './dto/sync-message.dto.js';
import { ControlSecretGuard } from './guards/control-secret.guard.js';
import { SharedSecretGuard } from './guards/shared-secret.guard.js';
import { SignedReplyInterceptor } from './guards/signed-reply.interceptor.js';

/**
 * The endpoints under the module's route prefix. A factory because the prefix is a
 * module extra; guards run before the pipe, so an unauthenticated body is never parsed further.
 * Every answer to an accepted request is signed (SignedReplyInterceptor): peers merge only
 * replies that prove knowledge of the secret and answer the very request they sent. The
 * controller carries its own ValidationPipe (ClusterValidationPipe), so the host needs no global one.
 */
export function createClusterController(routePrefix: string): Type<unknown> {
  @Controller(routePrefix)
  @UsePipes(new ClusterValidationPipe())
  @UseInterceptors(SignedReplyInterceptor)
  class ClusterController {
    constructor(private readonly cluster: ClusterService) {}

    @Post('gossip')
    @HttpCode(200)
    @UseGuards(SharedSecretGuard)
    gossip(@Body() body: GossipMessageDto): ServerList {
      return this.cluster.receiveGossip(body);
    }

    @Post('probe')
    @HttpCode(200)
    @UseGuards(SharedSecretGuard)
    probe(@Body() body: ProbeMessageDto): Promise<ProbeAck> {
      return this.cluster.receiveProbe(body);
    }

    @Post('sync')
    @HttpCode(200)
    @UseGuards(SharedSecretGuard)
    sync(@Body() body: SyncMessageDto): SyncMessage {
      return this.cluster.receiveSync(body);
    }

    /** Live servers' keys; `?include=all` adds offline servers' (see ClusterService.state). */
    @Get('state')
    @UseGuards(SharedSecretGuard)
    state(@Query('include') include?: string): Record<string, Record<string, JsonValue>> {
      if (include !== undefined && include !== 'all' && include !== 'live') throw new BadRequestException(`include must be "all" or "live", got "${escapeForLog(include, 40)}"`);
      return this.cluster.state({ include: include as StateSelection['include'] });
    }

    @Get('list')
    @UseGuards(SharedSecretGuard)
    list(): ServerList {
      return this.cluster.view();
    }

    @Post('control')
    @HttpCode(200)
    @UseGuards(ControlSecretGuard)
    control(@Body() body: ControlMessageDto, @Ip() ip: string): { success: true } {
      this.cluster.control(body, ip);
      return { success: true };
    }
  }
  return ClusterController;
}
