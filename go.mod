module github.com/caxton-go/caxton

go 1.24

require (
	github.com/bytecodealliance/wasmtime-go/v39 v39.0.1
	github.com/stretchr/testify v1.12.0
)

require (
	github.com/kr/text v0.2.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
