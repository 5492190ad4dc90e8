// Swagger UI for ucm-gateway. Everything is served by the gateway itself: units often sit on
// isolated LANs, so nothing may come from a CDN or an online validator.
window.onload = function () {
  window.ui = SwaggerUIBundle({
    // Relative to /docs/, so the page also works behind a reverse proxy that adds a path prefix.
    url: "../openapi.yaml",
    dom_id: "#swagger-ui",
    deepLinking: true,
    displayRequestDuration: true,
    persistAuthorization: true,
    tryItOutEnabled: false,
    validatorUrl: null, // the default sends the spec to validator.swagger.io
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
  });
};
