import Contracts
import HTTPTypes
import Hummingbird
import ServiceKit

/// `GET /openapi.yaml` (the contract) and `GET /docs` (a browsable reference rendering it).
enum DocsRoutes {
    static func add(to router: Router<AppRequestContext>) {
        let document = OpenAPIDocument.yaml().map { ByteBuffer(bytes: $0) }
        router.get("openapi.yaml") { _, _ -> Response in
            guard let document else { throw ProblemDetails(status: .notFound, detail: "This build carries no OpenAPI document.") }
            return Response(
                status: .ok,
                headers: [.contentType: "application/yaml; charset=utf-8", .cacheControl: "public, max-age=60"],
                body: .init(byteBuffer: document)
            )
        }
        router.get("docs") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8",
                    // Redoc renders the spec in the browser; it needs its script, workers and inline styles.
                    .contentSecurityPolicy: "default-src 'self'; script-src 'self' https://cdn.redocly.com; style-src 'self' 'unsafe-inline' https://fonts.googleapis.com; font-src https://fonts.gstatic.com; img-src 'self' data: https:; worker-src 'self' blob:; frame-ancestors 'none'",
                ],
                body: .init(byteBuffer: ByteBuffer(string: page))
            )
        }
    }

    static let page = """
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <meta name="viewport" content="width=device-width, initial-scale=1">
          <title>OrderFlow API reference</title>
        </head>
        <body>
          <noscript>
            <p>The interactive reference needs JavaScript. The contract itself is <a href="/openapi.yaml">/openapi.yaml</a> (OpenAPI 3.1).</p>
          </noscript>
          <redoc spec-url="/openapi.yaml" hide-download-button="false"></redoc>
          <script src="https://cdn.redocly.com/redoc/v2.5.0/bundles/redoc.standalone.js"></script>
          <p style="font-family: sans-serif; margin: 1em">Offline? Read <a href="/openapi.yaml">/openapi.yaml</a> directly.</p>
        </body>
        </html>
        """
}
