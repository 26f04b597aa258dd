/// Bounds on one request, so that memory and disk follow the output, never a hostile input
/// (Docs/REQUEST.md, "Limits"). Each is a 400 naming the limit.
public enum RequestLimits {
    /// IP-Adapter images in one request: each is one adapter instance in every cross-attention.
    public static let ipAdapterImages = 16
    /// Characters of the prompt, and of the negative prompt (about 30 chunks of 75 tokens).
    public static let promptCharacters = 10_000
    /// Decoded pixels of all the request's images together (each image is also held to 64 megapixels).
    public static let totalPixels = 128_000_000
    /// Bytes of a request body.
    public static let bodyBytes = 64 << 20
}
