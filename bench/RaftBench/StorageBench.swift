import Raft
func runStorageBench() -> [BenchRow] { [] }
