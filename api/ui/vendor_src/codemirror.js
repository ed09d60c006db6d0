// The editor's CodeMirror 6, bundled by `make vendor` (esbuild) into static/vendor/codemirror.js:
// only what the editor page imports, as one ES module. Not served itself.
export { EditorState, Compartment } from '@codemirror/state';
export { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection } from '@codemirror/view';
export { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
export { syntaxHighlighting, defaultHighlightStyle, indentOnInput, bracketMatching, foldGutter, foldKeymap } from '@codemirror/language';
export { yaml } from '@codemirror/lang-yaml';
export { linter, lintGutter, setDiagnostics, forceLinting, lintKeymap } from '@codemirror/lint';
export { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap } from '@codemirror/autocomplete';
export { searchKeymap, highlightSelectionMatches } from '@codemirror/search';
