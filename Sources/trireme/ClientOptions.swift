import ArgumentParser

/// Options every client command shares.
struct ClientOptions: ParsableArguments {
    @Option(name: .customLong("server"), help: "Node API address(es) HOST:PORT, comma-separated; tried in order.")
    var servers: String = ProcessEnvironment.servers ?? "127.0.0.11:7001,127.0.0.12:7001,127.0.0.13:7001"

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(help: "Seconds to wait for an answer.")
    var timeout: Double = 15

    @Option(name: .customLong("cacert"), help: "PEM file of the cluster CA: talk HTTPS, trusting only it (env TRIREME_CACERT).")
    var cacert: String?

    /// `--cacert`, else `TRIREME_CACERT`.
    var caFile: String? { cacert ?? ProcessEnvironment.caFile }

    @Option(help: "Bearer token for a node with authentication on (default: $TRIREME_TOKEN).")
    var token: String?

    /// `--token`, else `TRIREME_TOKEN`, else none.
    var bearerToken: String? { token ?? ProcessEnvironment.token }

    var client: APIClient {
        APIClient(servers: servers.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) },
                  timeout: timeout, caFile: caFile, token: bearerToken)
    }
}

enum ProcessEnvironment {
    /// `TRIREME_SERVER` overrides the default node list.
    static var servers: String? { getenv("TRIREME_SERVER").map { String(cString: $0) } }
    /// `TRIREME_CACERT`: the cluster CA for HTTPS (as `--cacert`).
    static var caFile: String? { getenv("TRIREME_CACERT").map { String(cString: $0) } }
    /// `TRIREME_TOKEN`: the bearer token, so it need not appear in a command line.
    static var token: String? { getenv("TRIREME_TOKEN").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } }
}

#if canImport(Glibc)
import Glibc
#endif
