// The OpenAPI 3.1 document, generated from the zod schemas the routes
// validate requests with (src/http/*-router.ts) and the response schemas of
// src/http/api-schemas.ts. Served at /openapi.json; /docs renders it.
import { z } from 'zod';
import { credentials } from './auth-router.js';
import { cancelBody, confirmBody, createOrderBody, orderIdField } from './payment-router.js';
import { ledgerQuery } from './wallet-router.js';
import { adminOrdersQuery, listOrdersQuery } from './order-query.js';
import { depositsQuery, retryBody, settleDepositBody, settlementQuery, webhooksQuery } from './admin-router.js';
import { notificationSchema } from '../payments/deposit-notification-service.js';
import { errorEnvelope, responses } from './api-schemas.js';

type Security = 'user' | 'admin' | 'none';

export interface Operation {
  method: 'get' | 'post';
  /** OpenAPI form: /api/payment/orders/{orderID} */
  path: string;
  summary: string;
  tag: string;
  security: Security;
  body?: z.ZodType;
  query?: z.ZodObject;
  pathParams?: Record<string, z.ZodType>;
  idempotent?: boolean;
  /** Success answers by status; every operation also answers the error envelope (`default`). */
  responses: Record<number, z.ZodType>;
}

const orderParam = { orderID: orderIdField };

export const OPERATIONS: Operation[] = [
  { method: 'post', path: '/api/auth/register', summary: 'Register', tag: 'auth', security: 'none', body: credentials, responses: { 201: responses.registered } },
  { method: 'post', path: '/api/auth/login', summary: 'Log in: an access token', tag: 'auth', security: 'none', body: credentials, responses: { 200: responses.loggedIn } },
  { method: 'get', path: '/api/payment/config', summary: "The frontend's Danal keys", tag: 'payment', security: 'user', responses: { 200: responses.clientConfig } },
  { method: 'post', path: '/api/payment/order', summary: 'Create a charge order', tag: 'payment', security: 'user', body: createOrderBody, idempotent: true, responses: { 201: responses.orderCreated } },
  { method: 'post', path: '/api/payment/confirm', summary: 'Confirm the payment with Danal and credit the points', tag: 'payment', security: 'user', body: confirmBody, idempotent: true, responses: { 200: responses.confirmed } },
  { method: 'post', path: '/api/payment/cancel', summary: 'Cancel a paid order: Danal refunds, the points go back', tag: 'payment', security: 'user', body: cancelBody, idempotent: true, responses: { 200: responses.canceled } },
  { method: 'get', path: '/api/payment/orders', summary: "The user's orders, newest first", tag: 'payment', security: 'user', query: listOrdersQuery, responses: { 200: responses.orders } },
  { method: 'get', path: '/api/payment/orders/{orderID}', summary: 'One order as a payment object', tag: 'payment', security: 'user', pathParams: orderParam, responses: { 200: responses.order } },
  { method: 'post', path: '/api/payment/noti/vaccount', summary: "Danal's virtual-account deposit notification (from Danal's addresses only)", tag: 'danal', security: 'none', body: notificationSchema, responses: { 200: responses.notificationReply, 400: responses.notificationReply, 403: responses.notificationReply, 404: responses.notificationReply, 409: responses.notificationReply, 413: responses.notificationReply, 415: responses.notificationReply, 429: responses.notificationReply } },
  { method: 'post', path: '/api/payment/noti/vaccount/{token}', summary: "Danal's deposit notification to the order's own notiUrl (checkout.notiUrl; its token must be the order's)", tag: 'danal', security: 'none', pathParams: { token: z.string().describe("the last segment of the order's checkout.notiUrl") }, body: notificationSchema, responses: { 200: responses.notificationReply, 400: responses.notificationReply, 403: responses.notificationReply, 404: responses.notificationReply, 409: responses.notificationReply, 413: responses.notificationReply, 415: responses.notificationReply, 429: responses.notificationReply } },
  { method: 'get', path: '/api/wallet', summary: 'Balance and the latest ledger rows', tag: 'wallet', security: 'user', responses: { 200: responses.wallet } },
  { method: 'get', path: '/api/wallet/ledger', summary: 'The ledger, newest first', tag: 'wallet', security: 'user', query: ledgerQuery, responses: { 200: responses.ledger } },
  { method: 'get', path: '/api/admin/orders', summary: 'Look orders up', tag: 'admin', security: 'admin', query: adminOrdersQuery, responses: { 200: responses.adminOrders } },
  { method: 'get', path: '/api/admin/orders/{orderID}', summary: 'One order with its events, ledger rows and notifications', tag: 'admin', security: 'admin', pathParams: orderParam, responses: { 200: responses.adminOrder } },
  { method: 'get', path: '/api/admin/settlement', summary: 'Paid, cancelled and net per day and payment method', tag: 'admin', security: 'admin', query: settlementQuery, responses: { 200: responses.settlement } },
  { method: 'get', path: '/api/admin/stuck', summary: 'Orders whose outcome at Danal is not settled, and deposits waiting for an operator', tag: 'admin', security: 'admin', responses: { 200: responses.stuck } },
  { method: 'get', path: '/api/admin/deposits', summary: 'Deposits Danal reported that could not be credited', tag: 'admin', security: 'admin', query: depositsQuery, responses: { 200: responses.deposits } },
  { method: 'post', path: '/api/admin/deposits/{depositId}/settle', summary: 'Settle a held deposit: credit it to its order, or record it returned', tag: 'admin', security: 'admin', pathParams: { depositId: z.string() }, body: settleDepositBody, responses: { 200: responses.depositSettled } },
  { method: 'post', path: '/api/admin/orders/{orderID}/reconcile', summary: 'Have the reconciler try an unsettled order again', tag: 'admin', security: 'admin', pathParams: orderParam, body: retryBody, responses: { 200: responses.rearmed } },
  { method: 'get', path: '/api/admin/webhooks', summary: 'Webhook deliveries, newest first', tag: 'admin', security: 'admin', query: webhooksQuery, responses: { 200: responses.webhookDeliveries } },
  { method: 'post', path: '/api/admin/webhooks/{eventId}/resend', summary: 'Re-send a webhook event to every configured URL', tag: 'admin', security: 'admin', pathParams: { eventId: z.uuid() }, responses: { 200: responses.resent } },
  { method: 'get', path: '/healthz', summary: 'Alive', tag: 'operations', security: 'none', responses: { 200: responses.health } },
  { method: 'get', path: '/readyz', summary: 'Ready: database and job engine', tag: 'operations', security: 'none', responses: { 200: responses.ready } },
];

const SECURITY: Record<Security, object[]> = { user: [{ bearer: [] }], admin: [{ adminKey: [] }], none: [] };

/** A zod schema as JSON Schema, its named parts ($defs) collected for components. */
function schemaOf(schema: z.ZodType, io: 'input' | 'output', components: Record<string, unknown>): Record<string, unknown> {
  const generated = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  const { $schema: _dialect, $defs, ...json } = JSON.parse(JSON.stringify(generated).replaceAll('"#/$defs/', '"#/components/schemas/')) as Record<string, unknown>;
  Object.assign(components, $defs ?? {});
  return json;
}

function buildDocument() {
  const components: Record<string, unknown> = {};
  const paths: Record<string, Record<string, unknown>> = {};
  const json = (schema: z.ZodType, io: 'input' | 'output') => ({ 'application/json': { schema: schemaOf(schema, io, components) } });
  for (const op of OPERATIONS) {
    const parameters = [
      ...Object.entries(op.pathParams ?? {}).map(([name, schema]) => ({ name, in: 'path', required: true, schema: schemaOf(schema, 'input', components) })),
      ...Object.entries(op.query?.shape ?? {}).map(([name, schema]) => ({
        name,
        in: 'query',
        required: !(schema as z.ZodType).safeParse(undefined).success,
        schema: schemaOf(schema as z.ZodType, 'input', components),
      })),
      ...(op.idempotent
        ? [{ name: 'Idempotency-Key', in: 'header', required: false, description: 'A repeat with the same key and body gets the first answer; 1-255 visible ASCII characters', schema: { type: 'string', minLength: 1, maxLength: 255 } }]
        : []),
    ];
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      summary: op.summary,
      tags: [op.tag],
      security: SECURITY[op.security],
      ...(parameters.length && { parameters }),
      ...(op.body && { requestBody: { required: true, content: json(op.body, 'input') } }),
      responses: {
        ...Object.fromEntries(Object.entries(op.responses).map(([status, schema]) => [status, { description: `HTTP ${status}`, content: json(schema, 'output') }])),
        default: { description: 'An error: a stable code and a message that says what is wrong', content: json(errorEnvelope, 'output') },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'DPOT Pay',
      version: '0.1.0',
      description: 'Buy DPOT wallet points through Danal. Amounts are integer KRW, points integer points. Errors: {success:false, error:{code, message, details?}}.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'accessToken from POST /api/auth/login' },
        adminKey: { type: 'http', scheme: 'basic', description: 'Authorization: Basic <admin API key> (ADMIN_API_KEYS)' },
      },
    },
  };
}

let document: ReturnType<typeof buildDocument> | undefined;
/** Built once: the schemas do not change while the process runs. */
export const openApiDocument = () => (document ??= buildDocument());
