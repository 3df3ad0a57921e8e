fn main() {
    let source = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    match chaosc::syntax::parse_file(&source) {
        Ok(file) => println!("{file:#?}"),
        Err(error) => println!("{:?}", miette::Report::new(error).with_source_code(source)),
    }
}
