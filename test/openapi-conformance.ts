// Every JSON answer the e2e suite receives from the API is checked against
// /openapi.json: the documented schema of its operation and status, or the
// documented error envelope.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { openApiDocument } from '../src/http/openapi.js';

interface Recorded {
  method: string;
  url: string;
  status: number;
  type: string;
  body: unknown;
}

const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: false });
const compiled = new Map<string, ValidateFunction>();

const operations = Object.entries(openApiDocument().paths).flatMap(([path, methods]) =>
  Object.entries(methods as Record<string, { responses: Record<string, { content: { 'application/json': { schema: object } } }> }>).map(([method, op]) => ({
    method: method.toUpperCase(),
    path,
    pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    responses: op.responses,
  })),
);

function validatorFor(method: string, path: string, status: string, schema: object): ValidateFunction {
  const key = `${method} ${path} ${status}`;
  let validate = compiled.get(key);
  if (!validate) {
    // The component schemas ride along, so that #/components/schemas/... refs resolve.
    validate = ajv.compile({ ...schema, components: openApiDocument().components });
    compiled.set(key, validate);
  }
  return validate;
}

/** The problems of one answer; none when it conforms or is not a documented JSON answer. */
export function conformanceProblems(r: Recorded): string[] {
  const path = r.url.replace(/^https?:\/\/[^/]+/, '').split('?')[0]!;
  const op = operations.find((o) => o.method === r.method && o.pattern.test(path));
  if (!op || !r.type.includes('json')) return [];
  const status = op.responses[String(r.status)] ? String(r.status) : 'default';
  const validate = validatorFor(op.method, op.path, status, op.responses[status]!.content['application/json'].schema);
  if (validate(r.body)) return [];
  return [`${r.method} ${path} → ${r.status} does not match /openapi.json: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(r.body).slice(0, 300)}`];
}

type Agent = Record<string, (...args: unknown[]) => { on(event: 'response', listener: (res: { status: number; type: string; body: unknown }) => void): unknown }>;

/** The supertest agent, with every answer it receives checked; problems land in `problems`. */
export function checkedAgent<A extends object>(agent: A, problems: string[]): A {
  return new Proxy(agent, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || !['get', 'post', 'put', 'patch', 'delete', 'options'].includes(String(property))) return value;
      return (url: string, ...rest: unknown[]) => {
        const test = (value as Agent[string]).call(target, url, ...rest);
        test.on('response', (res) => problems.push(...conformanceProblems({ method: String(property).toUpperCase(), url, status: res.status, type: res.type, body: res.body })));
        return test;
      };
    },
  });
}
