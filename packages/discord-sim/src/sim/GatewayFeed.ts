import { EventEmitter } from 'node:events';
import type { GatewayDisconnect, GatewayHooks } from '../gateway/GatewayServer.js';
import type { GatewaySessionInfo } from '../gateway/GatewaySession.js';
import { Waiters } from '../util/Waiters.js';
import type { GatewayEventMap, GatewayResume } from './GatewayControls.js';

const HISTORY = 1000;

function remember<T>(history: T[], value: T): void {
  history.push(value);
  if (history.length > HISTORY * 2) history.splice(0, history.length - HISTORY);
}

/** Receives the gateway's reports, keeps a short history of them and serves waits. */
export class GatewayFeed implements GatewayHooks {
  readonly emitter = new EventEmitter<GatewayEventMap>();
  readonly identifies: GatewaySessionInfo[] = [];
  readonly resumes: GatewayResume[] = [];
  readonly disconnects: GatewayDisconnect[] = [];
  readonly identifyWaiters = new Waiters<GatewaySessionInfo>();
  readonly resumeWaiters = new Waiters<GatewayResume>();
  readonly disconnectWaiters = new Waiters<GatewayDisconnect>();

  identify(session: GatewaySessionInfo): void {
    remember(this.identifies, session);
    this.identifyWaiters.notify(session);
    this.emitter.emit('identify', session);
  }

  resume(session: GatewaySessionInfo, replayed: number): void {
    const resume = { session, replayed };
    remember(this.resumes, resume);
    this.resumeWaiters.notify(resume);
    this.emitter.emit('resume', resume);
  }

  disconnect(event: GatewayDisconnect): void {
    remember(this.disconnects, event);
    this.disconnectWaiters.notify(event);
    this.emitter.emit('disconnect', event);
  }
}
