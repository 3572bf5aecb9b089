import ArgumentParser
import Node

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run a Trireme node (see cluster/nodes/*.json for configs).")

    @Option(help: "Node config file (JSON).") var config: String
    @Option(help: "Log level (trace, debug, info, notice, warning, error, critical); overrides the config's logLevel.")
    var logLevel: String?
    @Option(help: "TLS: this node's certificate chain (PEM); overrides the config's tlsCertFile.") var tlsCert: String?
    @Option(help: "TLS: this node's private key (PEM); overrides tlsKeyFile.") var tlsKey: String?
    @Option(help: "TLS: the cluster CA (PEM); overrides tlsCAFile.") var tlsCa: String?

    func run() async throws {
        var nodeConfig: NodeConfig
        do {
            nodeConfig = try NodeConfig.load(path: config)
        } catch {
            throw ValidationError("\(error)")
        }
        if let logLevel { nodeConfig.logLevel = logLevel }
        nodeConfig.tlsCertFile = tlsCert ?? nodeConfig.tlsCertFile
        nodeConfig.tlsKeyFile = tlsKey ?? nodeConfig.tlsKeyFile
        nodeConfig.tlsCAFile = tlsCa ?? nodeConfig.tlsCAFile
        do {
            _ = try nodeConfig.validated()
        } catch {
            throw ValidationError("\(error)")
        }
        try await TriremeServer.run(config: nodeConfig)
    }
}
