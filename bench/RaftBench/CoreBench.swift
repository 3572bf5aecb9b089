import Raft
func runCoreBench() -> [BenchRow] { [] }
