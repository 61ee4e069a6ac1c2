import type { SwitchyardErrorOptions } from '@switchyard/core';
import { InvalidArgumentError, registerErrorClass, SwitchyardError } from '@switchyard/core';

/**
 * Base class of every error `@switchyard/jetstream` throws. Match on `code`, not on the message.
 */
export class JetStreamTransportError extends SwitchyardError {}

/**
 * An option given to the publisher or the worker host is not what it expected. Its code is core's
 * `ERR_INVALID_ARGUMENT`, as for every bad option of every topology.
 */
export class InvalidJetStreamOptionError extends InvalidArgumentError {}

/**
 * The stream or the lease bucket already exists with a configuration this process does not
 * share (another partition count, lease time or subject prefix): publishing or consuming would
 * put events where no host looks for them.
 */
export class StreamConfigMismatchError extends JetStreamTransportError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_JETSTREAM_CONFIG_MISMATCH', message, options);
  }
}

/** JetStream did not store a published event (no stream, a timeout, a lost connection); `cause` says why. */
export class PublishFailedError extends JetStreamTransportError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_JETSTREAM_PUBLISH', message, options);
  }
}

/**
 * A worker host no longer owns a partition: its lease was taken over (it could not renew it in
 * time) or ran out on its own clock. The host stopped consuming the partition and acknowledges
 * nothing more from it; another host continues from the last acknowledged event.
 */
export class LeaseLostError extends JetStreamTransportError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_JETSTREAM_LEASE_LOST', message, options);
  }
}

/** The worker host was closed or killed; it cannot be started again. */
export class HostClosedError extends JetStreamTransportError {
  constructor(
    message = 'The worker host is closed; create a new JetStreamWorkerHost.',
    options: SwitchyardErrorOptions = {},
  ) {
    super('ERR_JETSTREAM_HOST_CLOSED', message, options);
  }
}

/**
 * A message on an event subject is not an event this package published (no tenant header, a body
 * that is not JSON). It is dead-lettered at once, without calling the handler.
 */
export class MalformedEventError extends JetStreamTransportError {
  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super('ERR_JETSTREAM_MALFORMED_EVENT', message, options);
  }
}

registerErrorClass('ERR_JETSTREAM_CONFIG_MISMATCH', StreamConfigMismatchError, { framework: true });
registerErrorClass('ERR_JETSTREAM_PUBLISH', PublishFailedError, { framework: true });
registerErrorClass('ERR_JETSTREAM_LEASE_LOST', LeaseLostError, { framework: true });
registerErrorClass('ERR_JETSTREAM_HOST_CLOSED', HostClosedError, { framework: true });
registerErrorClass('ERR_JETSTREAM_MALFORMED_EVENT', MalformedEventError, { framework: true });
