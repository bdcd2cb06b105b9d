#!/usr/bin/env bash
# Creates an nx project folder: scaffold-project.sh <libs|apps> <name> <tags comma-separated>
set -euo pipefail
kind=$1; name=$2; tags=$3
dir="$kind/$name"
mkdir -p "$dir/src"
pkg="@chameleon/$name"
[ "$kind" = apps ] && pkg="@chameleon/app-$name"
[ -f "$dir/package.json" ] || cat > "$dir/package.json" <<JSON
{
  "name": "$pkg",
  "version": "0.1.0",
  "private": true,
  "main": "src/index.ts",
  "types": "src/index.ts"
}
JSON
tagjson=$(echo "$tags" | awk -F, '{for(i=1;i<=NF;i++){printf "%s\"%s\"", (i>1?", ":""), $i}}')
[ -f "$dir/project.json" ] || cat > "$dir/project.json" <<JSON
{
  "\$schema": "../../node_modules/nx/schemas/project-schema.json",
  "name": "$name",
  "sourceRoot": "$dir/src",
  "projectType": "$([ "$kind" = apps ] && echo application || echo library)",
  "tags": [$tagjson],
  "targets": {
    "test": {
      "executor": "@nx/jest:jest",
      "outputs": ["{workspaceRoot}/coverage/{projectRoot}"],
      "options": { "jestConfig": "$dir/jest.config.js", "passWithNoTests": false }
    },
    "lint": { "executor": "@nx/eslint:lint" }
  }
}
JSON
[ -f "$dir/jest.config.js" ] || cat > "$dir/jest.config.js" <<JS
module.exports = {
  displayName: '$name',
  preset: '../../jest.preset.js',
};
JS
[ -f "$dir/src/index.ts" ] || echo "export {};" > "$dir/src/index.ts"
