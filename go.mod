module github.com/p2pnode/p2pnode

go 1.26

require (
	github.com/dsnet/compress v0.0.1
	github.com/klauspost/compress v1.20.4
	github.com/mattn/go-pointer v0.0.1
	github.com/ulikunitz/xz v0.5.17
	go.uber.org/goleak v1.3.0
)

require (
	github.com/stretchr/testify v1.12.1
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
