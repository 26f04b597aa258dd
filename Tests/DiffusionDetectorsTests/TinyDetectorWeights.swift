import Foundation

/// A models directory holding the tests' tiny random detector weights under their published
/// names (`detectors/scribble/ControlNetHED.pth`, `detectors/pose/body_pose_model.pth`), made
/// by Tests/Goldens/detectors/{hed,pose}.py.
enum TinyDetectorWeights {
    /// A fresh temporary models directory with both files; the caller removes it.
    static func modelsDirectory() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("detectors-\(UUID().uuidString)")
        for (modality, fixture, published) in [("scribble", "hed_tiny.pth", "ControlNetHED.pth"), ("pose", "pose_tiny.pth", "body_pose_model.pth")] {
            let folder = root.appendingPathComponent("detectors/\(modality)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: DetectorFixtures.folder.appendingPathComponent(fixture), to: folder.appendingPathComponent(published))
        }
        return root
    }

    static func weightsDirectory(_ models: URL, _ modality: String) -> URL {
        models.appendingPathComponent("detectors/\(modality)")
    }
}
