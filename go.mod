module github.com/p2pnode/p2pnode

go 1.26

require (
	github.com/dsnet/compress v0.0.1
	github.com/ulikunitz/xz v0.5.17
)
