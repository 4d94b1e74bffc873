// The API reference page: Swagger UI over /api/v1/openapi.json (an external file, so the CSP needs no inline script).
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.getAttribute("data-url"),
    domNode: root,
    deepLinking: true,
    persistAuthorization: false,
  });
})();
