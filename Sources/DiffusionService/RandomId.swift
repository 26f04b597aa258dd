/// RFC 4648's URL-safe base64 alphabet: the characters of asset and job ids after their prefix.
let randomIdAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

/// `prefix` and 22 random URL-safe characters (132 bits, so collisions are not a concern),
/// drawn from the system's secure generator: `asset_GTrL3mq4SXWyMxkOHRxlpw`.
func randomId(prefix: String) -> String {
    var generator = SystemRandomNumberGenerator()
    let suffix = (0..<22).map { _ in randomIdAlphabet[Int(generator.next(upperBound: UInt(randomIdAlphabet.count)))] }
    return prefix + String(suffix)
}
