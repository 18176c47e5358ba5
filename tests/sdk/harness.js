// Runs the unmodified @usekana/client-kana-js bundle in the page; pytest drives it through `window.kana`.
import { KanaUserClient } from "./client-kana-js.esm.js";

const clients = new Map();

// An Error does not survive the trip to Python: describe it.
function describe(error) {
  if (error instanceof Error) {
    return { isError: true, name: error.name, message: error.message };
  }
  return { isError: false, value: String(error) };
}

// A method's answer as JSON (undefined fields are dropped, as a JSON consumer would see them).
function plain(result) {
  if (result === undefined) {
    return null;
  }
  const out = {};
  if (result.data !== undefined) {
    out.data = JSON.parse(JSON.stringify(result.data));
  }
  if (result.error !== undefined) {
    out.error = describe(result.error);
  }
  return out;
}

window.kana = {
  create(name, config) {
    clients.set(name, new KanaUserClient(config));
  },
  async call(name, method, args) {
    return plain(await clients.get(name)[method](...args));
  },
};
window.kanaReady = true;
