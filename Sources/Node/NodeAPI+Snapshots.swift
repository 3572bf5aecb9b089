import API
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix

/// The serving side of InstallSnapshot (see `SnapshotFetcher`): a follower pulls this node's
/// snapshot files in chunks. Only peers holding the cluster secret may read them.
extension NodeAPI {
    func addSnapshotRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/internal/snapshots/:name") { request, context in
            if let refusal = self.unsigned(request) { return refusal }
            return HTTPSupport.json(try self.snapshot(named: context))
        }
        router.get("/v1/internal/snapshots/:name/data") { request, context in
            if let refusal = self.unsigned(request) { return refusal }
            let meta = try self.snapshot(named: context)
            guard let offset = request.uri.queryParameters["offset"].flatMap({ UInt64($0) }),
                  let length = request.uri.queryParameters["length"].flatMap({ UInt64($0) }),
                  length > 0, length <= SnapshotFetcher.chunkBytes, offset < meta.bytes, length <= meta.bytes - offset
            else {
                throw APIError(.invalidArgument, "offset and length must name a range of at most 4 MiB inside the snapshot")
            }
            let path = self.core.snapshotFiles.dataPath(index: meta.index, term: meta.term)
            // A blocking read of up to 4 MiB: on NIO's blocking pool, never on an event loop.
            let bytes = try await NIOThreadPool.singleton.runIfActive { () throws -> [UInt8] in
                guard let handle = FileHandle(forReadingAtPath: path) else { throw SnapshotFileError("snapshot file is gone") }
                defer { try? handle.close() }
                try handle.seek(toOffset: offset)
                return [UInt8](try handle.read(upToCount: Int(length)) ?? Data())
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/octet-stream"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }

    /// A 401 answer unless the request carries a valid, fresh signature.
    private func unsigned(_ request: Request) -> Response? {
        guard SnapshotSigning.verify(path: request.uri.string, timestamp: request.headers[.triremeTimestamp],
                                     signature: request.headers[.triremeSignature], secret: core.config.secret)
        else {
            return HTTPSupport.json(["error": ["code": "UNAUTHENTICATED", "message": "bad, stale or missing signature"]],
                                    status: .unauthorized)
        }
        return nil
    }

    /// The snapshot the path names (404 when this node has none).
    private func snapshot(named context: BasicRequestContext) throws -> SnapshotFiles.Meta {
        guard let name = context.parameters.get("name"), let key = SnapshotFiles.parseName(name),
              let meta = core.snapshotFiles.meta(index: key.index, term: key.term)
        else {
            throw APIError(.notFound, "no such snapshot")
        }
        return meta
    }
}

extension HTTPField.Name {
    static let triremeTimestamp: HTTPField.Name = {
        guard let name = HTTPField.Name(SnapshotSigning.timestampHeader) else { preconditionFailure("invalid header name constant") }
        return name
    }()
}
