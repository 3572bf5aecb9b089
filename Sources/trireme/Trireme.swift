import ArgumentParser

@main
struct Trireme: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trireme",
        abstract: "A distributed job store and scheduler.",
        subcommands: []
    )

    func run() async throws {
        print("trireme: the node runtime is not wired in yet (see the open issues).")
    }
}
