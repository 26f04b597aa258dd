import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP client for the tests: one request, its status, headers and body.
struct HTTPClient: Sendable {
    struct Reply: Sendable {
        let status: Int
        let headers: [String: String]
        let body: Data

        /// The body as a JSON object (an empty one when it is not).
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:] }
    }

    let port: Int
    /// `key:secret` sent with HTTP Basic; nil sends no credentials.
    var credentials: String?

    init(port: Int, credentials: String? = nil) {
        self.port = port
        self.credentials = credentials
    }

    func with(credentials: String?) -> HTTPClient {
        var copy = self
        copy.credentials = credentials
        return copy
    }

    /// One HTTP/1.1 exchange on its own connection, on its own thread. (Linux's URLSession
    /// never completes a request answered 401 with `WWW-Authenticate`, which these tests need.)
    func send(_ method: String, _ path: String, body: Data? = nil, authorization: String? = nil) async throws -> Reply {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        if let header = authorization ?? credentials.map({ "Basic " + Data($0.utf8).base64EncodedString() }) {
            head += "Authorization: \(header)\r\n"
        }
        let request = Data((head + "\r\n").utf8) + (body ?? Data())
        let port = port
        let raw = try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try Self.exchange(request, port: port) }) }.start()
        }
        return try Self.parse(raw)
    }

    /// Writes `request` to 127.0.0.1:`port` and reads the answer until the server closes.
    private static func exchange(_ request: Data, port: Int) throws -> Data {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw URLError(.cannotConnectToHost) }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw URLError(.cannotConnectToHost) }
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            // The server may answer (413, 401) and close before reading the whole body.
            guard n > 0 else { break }
            sent += n
        }
        var answer = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(socket, &buffer, buffer.count, 0)
            guard n > 0 else { break }
            answer.append(contentsOf: buffer[..<n])
        }
        return answer
    }

    private static func parse(_ raw: Data) throws -> Reply {
        guard let split = raw.firstRange(of: Data("\r\n\r\n".utf8)) else { throw URLError(.badServerResponse) }
        let lines = String(decoding: raw[..<split.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines.first?.split(separator: " ") ?? []
        guard parts.count >= 2, let status = Int(parts[1]) else { throw URLError(.badServerResponse) }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Reply(status: status, headers: headers, body: Data(raw[split.upperBound...]))
    }

    func get(_ path: String) async throws -> Reply { try await send("GET", path) }

    func post(_ path: String, json: Any) async throws -> Reply {
        try await send("POST", path, body: try JSONSerialization.data(withJSONObject: json))
    }

    /// Polls `GET /jobs/{id}` until the job has ended (or `timeout` seconds pass), calling
    /// `observe` with each job seen.
    func waitForJob(_ id: String, timeout: Double = 600, observe: ([String: Any]) -> Void = { _ in }) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let job = try await get("/jobs/\(id)").json["job"] as? [String: Any] ?? [:]
            observe(job)
            if ["success", "failure", "canceled"].contains(job["status"] as? String ?? "") { return job }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw URLError(.timedOut)
    }
}

