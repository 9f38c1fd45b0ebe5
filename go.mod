module github.com/caxton-go/caxton

go 1.24

require github.com/stretchr/testify v1.12.0

require gopkg.in/yaml.v3 v3.0.1 // indirect
