// /openapi.json and /docs: Swagger UI from the swagger-ui-dist package,
// served from our own origin (no CDN), started by our own initializer that
// points it at /openapi.json.
import path from 'node:path';
import { createRequire } from 'node:module';
import express, { Router } from 'express';
import { openApiDocument } from './openapi.js';
import { pageCsp } from './web.js';

const swaggerUiDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
  });
};
`;

export function docsRouter(): Router {
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  router.get('/docs', (req, res, next) => (req.path === '/docs' && !req.originalUrl.includes('/docs/') ? res.redirect(301, '/docs/') : next()));
  router.get('/docs/swagger-initializer.js', (_req, res) => {
    res.type('application/javascript').send(INITIALIZER);
  });
  router.use('/docs', pageCsp, express.static(swaggerUiDir, { index: 'index.html', fallthrough: true }));
  return router;
}
