import Module from 'node:module';

/** A function as the Functions worker would receive it: its metadata (bindings) and its callback. */
export interface RegisteredFunction {
  name: string;
  bindings: Record<string, { type: string; direction: string; [k: string]: unknown }>;
  callback: (...args: unknown[]) => unknown;
}

export const registry = new Map<string, RegisteredFunction>();
let installed = false;

/**
 * Supplies the worker's virtual module `@azure/functions-core` (the real worker injects it the same
 * way), so `app.*` and `df.app.*` registrations are captured here instead of going to a host. Must run
 * before the first registration: @azure/functions caches the module lookup.
 */
export function installFunctionsCore(): void {
  if (installed) return;
  installed = true;
  const core = {
    registerFunction(metadata: { name: string; bindings: RegisteredFunction['bindings'] }, callback: RegisteredFunction['callback']) {
      registry.set(metadata.name, { name: metadata.name, bindings: metadata.bindings, callback });
      return { dispose: () => registry.delete(metadata.name) };
    },
    setProgrammingModel() {},
    getProgrammingModel() {
      return undefined;
    },
    registerHook() {
      return { dispose() {} };
    },
    log() {},
  };
  const proto = Module.prototype as unknown as { require: (id: string) => unknown };
  const original = proto.require;
  proto.require = function (this: unknown, id: string) {
    if (id === '@azure/functions-core') return core;
    return original.call(this, id);
  };
}
