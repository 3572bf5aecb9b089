import ArgumentParser

@main
struct Trireme: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trireme",
        abstract: "A distributed job store and scheduler: queues, tasks and preprocessing jobs on a Raft cluster.",
        subcommands: [ServeCommand.self, QueueCommand.self, TaskCommand.self, JobCommand.self, ScheduleCommand.self, ClusterCommand.self,
                      ApplyCommand.self, ExportCommand.self, TokenCommand.self]
    )
}
