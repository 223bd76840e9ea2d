import NIOCore

extension RedisCommand {
    /// Appends the command in RESP's request form: an array of bulk strings.
    func write(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("*")
        buffer.writeString(String(arguments.count))
        buffer.writeStaticString("\r\n")
        for argument in arguments {
            buffer.writeStaticString("$")
            buffer.writeString(String(argument.count))
            buffer.writeStaticString("\r\n")
            buffer.writeBytes(argument)
            buffer.writeStaticString("\r\n")
        }
    }

    /// Bytes ``write(into:)`` appends, roughly, for sizing a buffer.
    var encodedSizeEstimate: Int {
        arguments.reduce(16) { $0 + $1.count + 16 }
    }
}
