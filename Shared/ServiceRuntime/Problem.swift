import Foundation
import Hummingbird

/// An RFC 9457 problem-details response, as every service answers errors.
public func problem(_ status: HTTPResponse.Status, _ title: String, _ detail: String, retryAfterSeconds: Int? = nil) -> Response {
    let body = try! JSONSerialization.data(withJSONObject: ["type": "about:blank", "title": title, "status": status.code, "detail": detail],
                                           options: [.sortedKeys])
    var response = Response(status: status, headers: [.contentType: "application/problem+json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    if let retryAfterSeconds { response.headers[.retryAfter] = String(retryAfterSeconds) }
    return response
}
