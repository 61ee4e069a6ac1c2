import { deserializeError, serializeError, SwitchyardError } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import {
  NodeError,
  NodeFunctionNotFoundError,
  NodeModuleLoadError,
  NodeResultNotCloneableError,
  NodeSpawnError,
} from '../../src/index.js';

describe('node errors', () => {
  it.each([
    [NodeModuleLoadError, 'ERR_NODE_MODULE_LOAD'],
    [NodeSpawnError, 'ERR_NODE_SPAWN'],
    [NodeFunctionNotFoundError, 'ERR_NODE_FUNCTION_NOT_FOUND'],
    [NodeResultNotCloneableError, 'ERR_NODE_RESULT_NOT_CLONEABLE'],
  ])('%o has code %s, derives from NodeError and SwitchyardError, and is rebuilt as itself', (ErrorClass, code) => {
    const cause = new TypeError('why');
    const error = new ErrorClass('what happened', { cause });
    expect(error).toBeInstanceOf(NodeError);
    expect(error).toBeInstanceOf(SwitchyardError);
    expect(error).toMatchObject({ code, name: ErrorClass.name, message: 'what happened' });
    const rebuilt = deserializeError(structuredClone(serializeError(error)));
    expect(rebuilt).toBeInstanceOf(ErrorClass);
    expect(rebuilt).toMatchObject({
      code,
      message: 'what happened',
      cause: { remoteName: 'TypeError', message: 'why' },
    });
  });
});
