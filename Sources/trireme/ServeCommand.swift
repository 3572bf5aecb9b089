import ArgumentParser
import Node

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run a Trireme node (see cluster/nodes/*.json for configs).")

    @Option(help: "Node config file (JSON).") var config: String

    func run() async throws {
        let nodeConfig: NodeConfig
        do {
            nodeConfig = try NodeConfig.load(path: config)
        } catch {
            throw ValidationError("\(error)")
        }
        do {
            _ = try nodeConfig.validated()
        } catch {
            throw ValidationError("\(error)")
        }
        try await TriremeServer.run(config: nodeConfig)
    }
}
