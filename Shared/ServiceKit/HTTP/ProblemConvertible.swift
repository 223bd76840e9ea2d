/// An error that knows the problem it answers with. ``ProblemMiddleware`` sends its
/// ``problem`` instead of a 500, so domain modules can throw their own typed errors.
public protocol ProblemConvertible: Error {
    /// The problem the client sees.
    var problem: ProblemDetails { get }
}
