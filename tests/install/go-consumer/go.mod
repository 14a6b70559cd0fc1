module example.com/p2pnode-consumer

go 1.26

require github.com/p2pnode/p2pnode v0.2.0

require (
	github.com/dsnet/compress v0.0.1 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/ulikunitz/xz v0.5.17 // indirect
)

// The checkout this module builds against; the install test points it at
// the repository root after copying this folder out of the tree.
replace github.com/p2pnode/p2pnode => ../../..
