// Follows controlnet_aux 0.0.10's open_pose/body.py (the subset loop of Body.__call__).
extension BodyPoseDecoder {
    /// controlnet_aux's person assembly, limb by limb: a connection whose keypoint A (or B)
    /// already belongs to one person extends that person; one touching two people merges them
    /// when they share no keypoint; otherwise (for the first 17 limbs) it starts a new person.
    /// People with fewer than 4 keypoints or a mean score below 0.4 are dropped.
    ///
    /// Each person is controlnet_aux's `subset` row: 18 peak ids (-1 when missing), the total
    /// score, the keypoint count, all float64.
    static func people(_ connections: [[Connection]?], candidates: [Peak]) -> [Person] {
        var subset: [[Double]] = []
        for (k, limb) in connections.enumerated() {
            guard let limb else { continue }
            let indexA = limbs[k].0 - 1, indexB = limbs[k].1 - 1
            for connection in limb {
                let partA = Double(connection.a), partB = Double(connection.b)
                // Python raises on a third match; at most two are kept here.
                let found = subset.indices.filter { subset[$0][indexA] == partA || subset[$0][indexB] == partB }.prefix(2)
                let bScore = candidates[connection.b].score
                if found.count == 1, let j = found.first {
                    if subset[j][indexB] != partB {
                        subset[j][indexB] = partB
                        subset[j][19] += 1
                        subset[j][18] += bScore + connection.score
                    }
                } else if found.count == 2 {
                    let (j1, j2) = (found[found.startIndex], found[found.startIndex + 1])
                    let shared = (0..<18).contains { subset[j1][$0] >= 0 && subset[j2][$0] >= 0 }
                    if !shared {
                        for p in 0..<18 { subset[j1][p] += subset[j2][p] + 1 }
                        subset[j1][18] += subset[j2][18]
                        subset[j1][19] += subset[j2][19]
                        subset[j1][18] += connection.score
                        subset.remove(at: j2)
                    } else {
                        subset[j1][indexB] = partB
                        subset[j1][19] += 1
                        subset[j1][18] += bScore + connection.score
                    }
                } else if found.isEmpty && k < 17 {
                    var row = [Double](repeating: -1, count: 20)
                    row[indexA] = partA
                    row[indexB] = partB
                    row[19] = 2
                    row[18] = candidates[connection.a].score + bScore + connection.score
                    subset.append(row)
                }
            }
        }
        return subset
            .filter { !($0[19] < 4 || $0[18] / $0[19] < 0.4) }
            .map { Person(parts: Array($0[0..<18]), score: $0[18], count: $0[19]) }
    }
}
