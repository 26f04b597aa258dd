import DiffusionPipeline
import Foundation

/// Shows a generation's progress on standard error: on a terminal one bar redrawn in place
/// (step, image k of n, elapsed, time left); otherwise one line per step, for logs.
final class ProgressDisplay {
    private let terminal = StandardStreams.errorIsTerminal
    private var drawn = false

    func show(_ progress: GenerationProgress) {
        guard terminal else { return StandardStreams.writeError("\(progress)\n") }
        let width = 24, filled = Int((progress.fraction * Double(width)).rounded())
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let image = min(progress.imagesDone + 1, progress.images)
        let line = String(format: "[%@] step %d/%d, image %d of %d, %.0f s elapsed, about %.0f s left",
                          bar, progress.step, progress.steps, image, progress.images, progress.elapsed, progress.remaining)
        // \r and the erase-line sequence redraw the bar in place.
        StandardStreams.writeError("\r\u{1B}[2K" + line)
        drawn = true
    }

    /// Ends the bar's line, so what follows starts on its own.
    func finish() {
        if drawn { StandardStreams.writeError("\n") }
        drawn = false
    }
}
