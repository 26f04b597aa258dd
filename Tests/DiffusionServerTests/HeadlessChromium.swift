import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Debian's `chromium`, headless, driven over the DevTools protocol on a pipe
/// (`--remote-debugging-pipe`: the browser reads commands on fd 3 and answers on fd 4, each
/// message JSON ended by a NUL), with one page attached. Killed when the value goes away.
final class HeadlessChromium: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The browser's executable, nil when it is not installed.
    static let executable: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    private let pid: pid_t
    private let commands: Int32
    private let answers: Int32
    private let profile: URL
    private var pending = Data()
    private var nextId = 0
    private var sessionId: String?
    private let lock = NSLock()

    /// Starts the browser with a `width` x `height` window and attaches to its page.
    init(width: Int = 1100, height: Int = 1000) throws {
        guard let executable = Self.executable else { throw Failure(description: "chromium is not installed") }
        profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)")
        var toBrowser: [Int32] = [0, 0], fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw Failure(description: "cannot make pipes") }
        let arguments = [
            executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars", "--remote-debugging-pipe",
            "--user-data-dir=\(profile.path)", "--window-size=\(width),\(height)", "about:blank",
        ]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toBrowser[0], 3)
        posix_spawn_file_actions_adddup2(&actions, fromBrowser[1], 4)
        // The test's ends stay the test's, so that the browser's exit closes its pipe.
        posix_spawn_file_actions_addclose(&actions, toBrowser[1])
        posix_spawn_file_actions_addclose(&actions, fromBrowser[0])
        // The browser's own chatter (GPU and D-Bus warnings) is not the test's.
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var child: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let spawned = posix_spawn(&child, executable, &actions, nil, argv, environ)
        close(toBrowser[0])
        close(fromBrowser[1])
        guard spawned == 0 else { throw Failure(description: "cannot start \(executable): error \(spawned)") }
        pid = child
        commands = toBrowser[1]
        answers = fromBrowser[0]
        let targets = try call("Target.getTargets", [:], session: false)
        let infos = (targets["targetInfos"] as? [[String: Any]]) ?? []
        guard let page = infos.first(where: { $0["type"] as? String == "page" })?["targetId"] as? String else {
            throw Failure(description: "the browser has no page: \(targets)")
        }
        let attached = try call("Target.attachToTarget", ["targetId": page, "flatten": true], session: false)
        sessionId = attached["sessionId"] as? String
    }

    deinit {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        close(commands)
        close(answers)
        try? FileManager.default.removeItem(at: profile)
    }

    /// Opens `url` in the page.
    func navigate(_ url: String) async throws {
        _ = try await send("Page.navigate", ["url": url])
    }

    /// The value of `expression` in the page (a promise is awaited); a thrown exception fails.
    @discardableResult
    func evaluate(_ expression: String) async throws -> Any? {
        let reply = try await send("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true])
        if let exception = reply["exceptionDetails"] as? [String: Any] {
            let text = ((exception["exception"] as? [String: Any])?["description"] as? String) ?? "\(exception)"
            throw Failure(description: "the page threw: \(text)")
        }
        return (reply["result"] as? [String: Any])?["value"]
    }

    /// Waits until `expression` is true in the page (one that throws, as on a page still loading,
    /// is not yet true); fails after `timeout` seconds with `what`.
    func waitUntil(_ expression: String, timeout: Double = 30, _ what: String) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try await evaluate("(() => { try { return Boolean(\(expression)); } catch { return false; } })()") as? Bool == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure(description: "timed out after \(Int(timeout)) s waiting for \(what)")
    }

    /// Chooses `files` in the file input `selector`, as a user picking them would (a change event follows).
    func setFiles(_ selector: String, _ files: [URL]) async throws {
        let element = try await send("Runtime.evaluate", ["expression": "document.querySelector(\(Self.quoted(selector)))"])
        guard let objectId = (element["result"] as? [String: Any])?["objectId"] as? String else {
            throw Failure(description: "no element \(selector)")
        }
        _ = try await send("DOM.setFileInputFiles", ["files": files.map(\.path), "objectId": objectId])
    }

    /// The page as a PNG.
    func screenshot() async throws -> Data {
        let reply = try await send("Page.captureScreenshot", ["format": "png"])
        guard let data = (reply["data"] as? String).flatMap({ Data(base64Encoded: $0) }) else {
            throw Failure(description: "no screenshot")
        }
        return data
    }

    /// `text` as a JavaScript string literal.
    static func quoted(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text])) ?? Data("[\"\"]".utf8)
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }

    /// One command to the attached page, answered on a thread of its own (reading blocks).
    private func send(_ method: String, _ params: [String: Any]) async throws -> [String: Any] {
        let body = try JSONSerialization.data(withJSONObject: params)
        return try await withCheckedThrowingContinuation { continuation in
            Thread { [self] in
                continuation.resume(with: Result {
                    let params = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
                    return try call(method, params, session: true)
                })
            }.start()
        }
    }

    /// Writes a command and reads messages until its answer (events in between are skipped),
    /// for at most 60 seconds.
    private func call(_ method: String, _ params: [String: Any], session: Bool) throws -> [String: Any] {
        lock.lock()
        defer { lock.unlock() }
        nextId += 1
        var message: [String: Any] = ["id": nextId, "method": method, "params": params]
        if session, let sessionId { message["sessionId"] = sessionId }
        var bytes = try JSONSerialization.data(withJSONObject: message)
        bytes.append(0)
        try bytes.withUnsafeBytes { buffer in
            guard let start = buffer.baseAddress else { return }
            var sent = 0
            while sent < buffer.count {
                let n = write(commands, start + sent, buffer.count - sent)
                guard n > 0 else { throw Failure(description: "the browser closed its pipe") }
                sent += n
            }
        }
        let deadline = Date().addingTimeInterval(60)
        while true {
            let reply = try readMessage(until: deadline)
            guard reply["id"] as? Int == nextId else { continue }
            if let error = reply["error"] as? [String: Any] {
                throw Failure(description: "\(method): \(error["message"] as? String ?? "\(error)")")
            }
            return reply["result"] as? [String: Any] ?? [:]
        }
    }

    private func readMessage(until deadline: Date) throws -> [String: Any] {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            if let end = pending.firstIndex(of: 0) {
                let message = pending[pending.startIndex..<end]
                pending = Data(pending[(end + 1)...])
                return (try JSONSerialization.jsonObject(with: message)) as? [String: Any] ?? [:]
            }
            var descriptor = pollfd(fd: answers, events: Int16(POLLIN), revents: 0)
            let wait = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            guard wait > 0, poll(&descriptor, 1, wait) > 0 else { throw Failure(description: "the browser did not answer in time") }
            let n = read(answers, &buffer, buffer.count)
            guard n > 0 else { throw Failure(description: "the browser closed its pipe") }
            pending.append(contentsOf: buffer[..<n])
        }
    }
}
