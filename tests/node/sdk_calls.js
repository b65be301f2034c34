// Calls the portal through the official Node.js SDKs, for tests/api/test_node_sdks.py: reads a list of calls (JSON)
// on stdin, makes them one after the other and prints each outcome (JSON) on stdout.
//
// A call: {"sdk": "ram" | "ims" | "sts" | "pop", "endpoint": "127.0.0.1:8000", "key": [id, secret],
//          "signature": "v2" (HMAC-SHA1; the SDKs' default is ACS3-HMAC-SHA256), "action": "CreateUser",
//          "params": {API parameter names: values}, "version": (pop-core only), "retry": (attempts on throttling)}
// An outcome: {"ok": true, "body": {the response's fields}} or
//             {"ok": false, "name", "code", "statusCode", "message", "retryAfter", "data"}.
'use strict';

const RPCClient = require('@alicloud/pop-core').RPCClient;
const { RetryOptions } = require('@darabonba/typescript');

const PRODUCTS = {
  ram: require('@alicloud/ram20150501'),
  ims: require('@alicloud/ims20190815'),
  sts: require('@alicloud/sts20150401'),
};
const { Config } = require('@alicloud/openapi-core/dist/utils');

function lowerFirst(name) {
  return name.slice(0, 1).toLowerCase() + name.slice(1);
}

function sdkClient(call) {
  const config = new Config({
    accessKeyId: call.key[0],
    accessKeySecret: call.key[1],
    endpoint: call.endpoint,
    protocol: 'http',
    readTimeout: 20000,
    connectTimeout: 5000,
  });
  if (call.signature) {
    config.signatureAlgorithm = call.signature;
  }
  if (call.retry) {
    config.retryOptions = new RetryOptions({
      retryable: true,
      retryCondition: [{ exception: ['ThrottlingError'], maxAttempts: call.retry }],
      noRetryCondition: [],
    });
  }
  return new PRODUCTS[call.sdk].default(config);
}

// The request model of an action, its fields given by their API names (as the models' names() map them).
function request(product, action, params) {
  const Model = product[`${action}Request`];
  if (!Model) {
    return undefined;
  }
  const byApiName = Object.fromEntries(Object.entries(Model.names()).map(([field, api]) => [api, field]));
  const fields = {};
  for (const [name, value] of Object.entries(params || {})) {
    if (!(name in byApiName)) {
      throw new Error(`${action}Request has no field ${name}`);
    }
    fields[byApiName[name]] = value;
  }
  return new Model(fields);
}

async function callSdk(call) {
  const product = PRODUCTS[call.sdk];
  const client = sdkClient(call);
  const made = request(product, call.action, call.params);
  const method = lowerFirst(call.action);
  const response = made === undefined ? await client[method]() : await client[method](made);
  return response.body.toMap();
}

async function callPopCore(call) {
  const client = new RPCClient({
    accessKeyId: call.key[0],
    accessKeySecret: call.key[1],
    endpoint: `http://${call.endpoint}`,
    apiVersion: call.version,
  });
  return client.request(call.action, call.params || {}, { method: 'POST', timeout: 20000 });
}

async function outcome(call) {
  try {
    const body = call.sdk === 'pop' ? await callPopCore(call) : await callSdk(call);
    return { ok: true, body };
  } catch (error) {
    return {
      ok: false,
      name: error.name,
      code: error.code,
      statusCode: error.statusCode,
      message: error.message,
      retryAfter: error.retryAfter,
      data: error.data,
    };
  }
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  const calls = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const outcomes = [];
  for (const call of calls) {
    outcomes.push(await outcome(call));
  }
  process.stdout.write(JSON.stringify(outcomes));
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
